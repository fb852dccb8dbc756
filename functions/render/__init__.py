"""The render function: a container-image Lambda fed by the render queue."""
