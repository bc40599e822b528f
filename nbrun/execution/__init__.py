"""Running a notebook's cells on a kernel and recording what came back."""
