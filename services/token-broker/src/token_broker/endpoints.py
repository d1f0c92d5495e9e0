"""token-broker's internal API. Callers (portal-api, the workers) present the internal API key."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

from dxc_shared.credentials import (
    AccessToken,
    AuthorisationFailed,
    CredentialMissing,
    CredentialStatus,
    ReauthorisationDetail,
    ReauthorisationNeeded,
)
from dxc_shared.messages import Provider
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from token_broker.credentials import CredentialService
from token_broker.providers import ProviderUnavailable
from token_broker.schemas import AccessTokenRequest, AuthorizationCodeIn

_bearer = HTTPBearer(auto_error=False)


def _credentials(request: Request) -> CredentialService:
    service: CredentialService = request.app.state.credentials
    return service


def _require_internal_key(
    request: Request,
    presented: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected: str = request.app.state.internal_api_key
    if presented is None or not secrets.compare_digest(presented.credentials, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "A valid internal API key is required")


Credentials = Annotated[CredentialService, Depends(_credentials)]
router = APIRouter(
    prefix="/v1/connections/{connection_id}/credentials",
    tags=["credentials"],
    dependencies=[Depends(_require_internal_key)],
    responses={401: {"description": "Missing or wrong internal API key"}},
)


def _unavailable(provider: Provider, error: ProviderUnavailable) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"{provider} identity service is unavailable, try again shortly ({error})",
        headers={"Retry-After": "5"},
    )


@router.post(
    "/{provider}",
    status_code=status.HTTP_201_CREATED,
    summary="Exchange an authorisation code and store the grant",
    responses={400: {"description": "The provider refused the code"}, 503: {}},
)
async def store_authorization_code(
    connection_id: uuid.UUID, provider: Provider, body: AuthorizationCodeIn, service: Credentials
) -> CredentialStatus:
    try:
        credential = await service.store_authorization_code(
            connection_id,
            provider,
            code=body.code,
            redirect_uri=body.redirect_uri,
            code_verifier=body.code_verifier,
        )
    except AuthorisationFailed as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, error.message) from error
    except ProviderUnavailable as error:
        raise _unavailable(provider, error) from error
    return CredentialStatus.model_validate(credential)


@router.post(
    "/{provider}/access-token",
    summary="A fresh access token, refreshed under a lock if needed",
    responses={
        404: {"description": "No credential for this connection and provider"},
        409: {"description": "Re-authorisation needed", "model": ReauthorisationDetail},
        503: {"description": "The provider's identity service is unavailable"},
    },
)
async def access_token(
    connection_id: uuid.UUID, provider: Provider, body: AccessTokenRequest, service: Credentials
) -> AccessToken:
    try:
        issued = await service.access_token(
            connection_id, provider, resource=body.resource, rejected=body.rejected_token
        )
    except CredentialMissing as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    except ReauthorisationNeeded as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT, ReauthorisationDetail(message=error.message).model_dump()
        ) from error
    except ProviderUnavailable as error:
        raise _unavailable(provider, error) from error
    return issued


@router.get("", summary="The state of each stored grant (never the tokens)")
async def list_credentials(
    connection_id: uuid.UUID, service: Credentials
) -> list[CredentialStatus]:
    return [
        CredentialStatus.model_validate(credential)
        for credential in await service.statuses(connection_id)
    ]


@router.delete(
    "/{provider}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the grant at the provider and forget it",
    responses={404: {"description": "No credential for this connection and provider"}},
)
async def revoke(connection_id: uuid.UUID, provider: Provider, service: Credentials) -> Response:
    if not await service.revoke(connection_id, provider):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such credential")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
