"""borgerbot: citizens' social-media inquiries, routed to departments and answered with approval."""

__version__ = "0.1.0"
