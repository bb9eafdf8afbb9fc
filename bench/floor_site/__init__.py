"""A bench-only site: the app's own settings and URLs, plus the floor's booking view."""
