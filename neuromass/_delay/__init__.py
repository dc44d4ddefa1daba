"""The delay history of networks: structure, plan, ring, interpolations, adjoints."""
