from __future__ import annotations

from fastapi import APIRouter, Response, status

from portal_api.auth import service
from portal_api.auth.dependencies import CSRF_COOKIE, SESSION_COOKIE, CurrentUser
from portal_api.auth.schemas import (
    ConfirmIn,
    LoginIn,
    MessageOut,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RegisterIn,
    SignedIn,
    UserOut,
)
from portal_api.context import ClientAddress, Context, Session
from portal_api.kit.errors import error_responses
from portal_api.kit.routes import accepted, no_content
from portal_api.settings import PortalApiSettings

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _signed_in(
    response: Response, settings: PortalApiSettings, new: service.NewSession
) -> SignedIn:
    secure = settings.public_url.startswith("https://")
    common = {"max_age": new.expires_at_seconds, "samesite": "lax", "secure": secure, "path": "/"}
    response.set_cookie(SESSION_COOKIE, new.token, httponly=True, **common)  # type: ignore[arg-type]
    response.set_cookie(CSRF_COOKIE, new.csrf_token, httponly=False, **common)  # type: ignore[arg-type]
    return SignedIn(user=UserOut.model_validate(new.user), access_token=new.token)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Sign up: no card needed; starts the free trial and e-mails a confirmation link",
    responses=error_responses(409, 422),
)
async def register(
    body: RegisterIn, session: Session, context: Context, client: ClientAddress
) -> MessageOut:
    user = await service.register(session, context.settings, body, client)
    return MessageOut(
        message=f"We sent a confirmation link to {user.email}. Open it to choose your password."
    )


@router.post(
    "/confirm",
    summary="Confirm the e-mail address with the link's token and set the password",
    responses=error_responses(400, 422),
)
async def confirm(
    body: ConfirmIn, response: Response, session: Session, context: Context
) -> SignedIn:
    new = await service.confirm(session, context.settings, body.token, body.password)
    return _signed_in(response, context.settings, new)


@router.post(
    "/login",
    summary="Sign in: sets the session and CSRF cookies and returns a bearer token",
    responses=error_responses(401, 422, 429),
)
async def login(
    body: LoginIn, response: Response, session: Session, context: Context, client: ClientAddress
) -> SignedIn:
    new = await service.login(session, context.settings, body.email, body.password, client)
    return _signed_in(response, context.settings, new)


@router.post("/logout", summary="Sign out: ends this session", **no_content(401, 403))
async def logout(current: CurrentUser, session: Session, response: Response) -> None:
    await service.logout(session, current.session)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.post(
    "/password-reset",
    summary="E-mail a password reset link (the answer is the same whether or not the account "
    "exists)",
    **accepted(422),
)
async def password_reset(
    body: PasswordResetIn, session: Session, context: Context, client: ClientAddress
) -> MessageOut:
    await service.request_password_reset(session, context.settings, body.email, client)
    return MessageOut(message="If an account uses this address, we sent it a reset link.")


@router.post(
    "/password-reset/confirm",
    summary="Set a new password with the reset link's token; signs out every session",
    **no_content(400, 422),
)
async def password_reset_confirm(body: PasswordResetConfirmIn, session: Session) -> None:
    await service.reset_password(session, body.token, body.password)


@router.get("/me", summary="The signed-in user", responses=error_responses(401))
async def me(current: CurrentUser) -> UserOut:
    return UserOut.model_validate(current.user)
