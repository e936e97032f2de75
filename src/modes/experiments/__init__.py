"""Experiments that combine components into one of the paper's figures."""
