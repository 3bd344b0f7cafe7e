"""Importer: Excel template, streaming validation of uploads, chunked hand-over to filing, credential workbooks."""
