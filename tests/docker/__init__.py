"""The Docker image, proven without a Docker engine: the Dockerfile parsed by Docker's parser, its build replayed."""
