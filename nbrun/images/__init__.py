"""Images in outputs: extracted to files, remote images, links between them."""
