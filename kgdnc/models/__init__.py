"""Trained models shipped with kgdnc (package data: ``*.ckpt`` and their README)."""
