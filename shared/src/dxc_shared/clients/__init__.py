"""Typed HTTP clients for the services and vendors the workers talk to."""
