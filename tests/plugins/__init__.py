"""Tests of the plugins package (retention rules, compliance catalogue)."""
