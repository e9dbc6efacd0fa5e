"""Tests of receiving Kartra outbound events and IPNs."""
