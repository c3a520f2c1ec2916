"""What the city asks for: matters and their materials, the licence directory, the department
directory and routing, regions, holder identifiers (GB 11643, GB 32100), YAML loading.

May import: store, errors (and nothing of the domain above it).
"""
