"""Scrapy spiders and pipelines. A spider yields pages; it knows nothing of people."""
