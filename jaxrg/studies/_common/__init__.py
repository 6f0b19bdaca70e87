"""Infrastructure shared by several studies (never by the library layer)."""
