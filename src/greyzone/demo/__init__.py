"""The demo scenario: generated, seeded, labelled synthetic."""
