"""The pipeline: a core that knows no feature, and the default one assembled from features."""
