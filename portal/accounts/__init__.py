"""Accounts: registration, e-mail verification, login, passwords."""
