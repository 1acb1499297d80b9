"""The Agent Profile resource (Communication §2.6, LRS book 4.1.6.6)."""

from lrs.api.documents import document_routes
from statements.documents import DocumentKind

routes = document_routes("/agents/profile", DocumentKind.AGENT_PROFILE)
