"""Media inspection: container sniffing and PyAV probing of uploaded files."""
