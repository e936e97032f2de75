"""Typed, swappable components. Interfaces live in :mod:`modes.components.protocols`."""
