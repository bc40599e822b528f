"""Human reports: the HTML notebook page, the run page, ANSI to HTML."""
