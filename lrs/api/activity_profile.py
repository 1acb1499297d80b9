"""The Activity Profile resource (Communication §2.7, LRS book 4.1.6.5)."""

from lrs.api.documents import document_routes
from statements.documents import DocumentKind

routes = document_routes("/activities/profile", DocumentKind.ACTIVITY_PROFILE)
