"""The HTTP service: an API with roles over the store and the products (``create_app``)."""
