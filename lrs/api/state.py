"""The State resource (Communication §2.3, LRS book 4.1.6.2)."""

from lrs.api.documents import document_routes
from statements.documents import DocumentKind

routes = document_routes("/activities/state", DocumentKind.STATE)
