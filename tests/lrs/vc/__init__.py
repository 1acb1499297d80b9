"""Tests of lrs/vc."""
