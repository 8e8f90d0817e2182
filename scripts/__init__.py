"""Maintainer scripts of the kit: release generation, headless notebook runs, leak check, demo."""
