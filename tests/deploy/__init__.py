"""Static checks of deploy/: Dockerfile, compose and Kubernetes manifests."""
