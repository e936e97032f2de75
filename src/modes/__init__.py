"""modes: executable checks of the distinct modes of class fitting in residual networks.

Pipeline: data -> backbone -> tap -> reducer -> density -> claim -> report.
"""

__version__ = "0.1.0"
