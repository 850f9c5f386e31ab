"""Real parts for tests: a distribution registry process, a reverse proxy in front of it, consumer CLIs."""
