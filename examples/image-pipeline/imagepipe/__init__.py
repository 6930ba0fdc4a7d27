"""imagepipe: build container images and push them to a registry (a queuebench worked example)."""
