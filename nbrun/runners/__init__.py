"""Running many notebooks: the local batch and Dask."""
