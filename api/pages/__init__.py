"""The public record for people: plain HTML pages and SVG charts under /record, in
English and Simplified Chinese, with no script and no asset from another host."""

from api.pages.routes import router

__all__ = ["router"]
