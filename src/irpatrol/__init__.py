"""irpatrol: infrared inspection of substation and distribution equipment."""

__version__ = "0.1.0"
