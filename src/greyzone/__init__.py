"""greyzone: situational awareness and safer movement for civilians in a contested city."""

__version__ = "0.1.0"
