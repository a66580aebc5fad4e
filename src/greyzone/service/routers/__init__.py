"""One router per area of the API; ``service.app.create_app`` includes them all."""
