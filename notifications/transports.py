"""Delivery channels. Each transport's ``send()`` delivers one notification or raises
``PermanentError`` (record and stop) or ``TransientError`` (retry with backoff)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import smtplib
import socket
import threading
import time
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Max
from django.utils import timezone

from notifications.models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTag,
)
from notifications.rendering import TemplateMissing, context_refresh, render_email
from notifications.wire import envelope_recipient, envelope_sender, message_bytes, smtp_send

SIGNATURE_HEADER = "X-Caseowner-Signature"
TIMESTAMP_HEADER = "X-Caseowner-Timestamp"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class DeliveryError(Exception):
    """``reason`` is short and from a small set (an SMTP or HTTP code, an error's kind): the
    failure counters are labelled with it."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class PermanentError(DeliveryError):
    """Retrying cannot help (address refused, template missing, endpoint gone)."""


class TransientError(DeliveryError):
    """Worth another try later (server down, busy, timed out)."""


class Deferred(TransientError):
    """Not this message's turn yet (an earlier event of its order is still on its way): it
    waits ``seconds`` and the attempt does not count."""

    def __init__(self, message: str, *, seconds: float) -> None:
        super().__init__(message, reason="deferred")
        self.seconds = seconds


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class _BuiltOnce(EmailMultiAlternatives):
    """An email whose MIME message is built once: the transport builds it to check its
    headers, and the backend's send would otherwise build it all over again."""

    _built: Any = None

    def message(self, *args: Any, **kwargs: Any) -> Any:
        if self._built is None:
            self._built = super().message(*args, **kwargs)
        return self._built


class EmailTransport:
    """Django's email backend, one open connection kept per worker thread."""

    _local = threading.local()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "backend", None) != settings.EMAIL_BACKEND:
            connection = get_connection(fail_silently=False)
            # Opened here, the backend keeps it open across send_messages() calls.
            connection.open()
            self._local.connection = connection
            self._local.backend = settings.EMAIL_BACKEND
        return connection

    def _close(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # the connection is being dropped anyway
                pass

    def _writes_bytes(self) -> bool:
        """Django's own SMTP backend: the message's bytes are written directly
        (``notifications.wire``) and handed to its connection; any other backend (the tests'
        and the console's, the demo's mailbox) is given the message itself."""
        return settings.EMAIL_BACKEND == SMTP_BACKEND

    def _send_bytes(
        self, message: EmailMultiAlternatives, notification: Notification, data: bytes
    ) -> bool:
        """What the SMTP backend's ``send_messages`` does for one message: the same envelope,
        the same bytes, over the kept-open connection."""
        backend = self._connection()
        if backend.connection is None:
            backend.open()
        to = str(message.to[0])
        smtp_send(
            backend.connection,
            envelope_sender(str(message.from_email)),
            envelope_recipient(to, notification.recipient_address),
            data,
            to=to,
        )
        return True

    def build(self, notification: Notification) -> EmailMultiAlternatives:
        context = context_refresh(notification.context)
        try:
            rendered = render_email(
                template=notification.template,
                context=context,
                recipient_name=notification.recipient_name,
            )
        except TemplateMissing as exc:
            raise PermanentError(str(exc), reason="template_missing") from exc
        to = formataddr((notification.recipient_name, notification.recipient_address))
        options = notification.headers or {}
        headers = {
            "Message-ID": notification.message_id,
            # RFC 3834: notices are automatic, so another system's auto-reply never answers
            # them; a person's reply says "no".
            "Auto-Submitted": options.get("auto_submitted") or "auto-generated",
        }
        if options.get("in_reply_to"):
            headers["In-Reply-To"] = options["in_reply_to"]
        if options.get("references"):
            headers["References"] = " ".join(options["references"])
        from_email = None
        # the headers' sender name, else the one the context names when sent (a cover's)
        if from_name := options.get("from_name") or context.get("from_name"):
            from_email = formataddr((from_name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
        message = _BuiltOnce(
            subject=rendered.subject,
            body=rendered.text,
            from_email=from_email,
            to=[to],
            reply_to=[options["reply_to"]] if options.get("reply_to") else None,
            headers=headers,
        )
        if rendered.html:
            message.attach_alternative(rendered.html, "text/html")
        for attachment in notification.attachments:
            message.attach(
                attachment["filename"], attachment["content"], attachment["content_type"]
            )
        return message

    def send(self, notification: Notification) -> str:
        """Send one email; returns its Message-ID."""
        data: bytes | None = None
        try:
            message = self.build(notification)
            # Headers are checked when the message is serialised: a CR/LF in a name or a
            # subject can never be sent, however often it is retried.
            if self._writes_bytes():
                data = message_bytes(message)
            else:
                message.message()
        except (BadHeaderError, ValueError) as exc:
            raise PermanentError(
                f"the message cannot be built: {exc}", reason="bad_header"
            ) from exc
        for attempt in (1, 2):
            try:
                if data is None:
                    message.connection = self._connection()
                    sent = message.send(fail_silently=False)
                else:
                    sent = self._send_bytes(message, notification, data)
            except smtplib.SMTPServerDisconnected as exc:
                # A kept-open connection the server dropped: reconnect once, then give up.
                self._close()
                if attempt == 2:
                    raise TransientError(
                        f"SMTP disconnected: {exc}", reason="disconnected"
                    ) from exc
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                self._close()
                codes = [code for code, _ in exc.recipients.values()]
                detail = "; ".join(
                    f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()
                )
                reason = str(codes[0]) if codes else "refused"
                if codes and all(code >= 500 for code in codes):
                    raise PermanentError(f"recipient refused: {detail}", reason=reason) from exc
                raise TransientError(f"recipient deferred: {detail}", reason=reason) from exc
            except smtplib.SMTPResponseException as exc:
                self._close()
                error = f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}"
                reason = str(exc.smtp_code)
                if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPSenderRefused):
                    raise PermanentError(error, reason=reason) from exc
                raise TransientError(error, reason=reason) from exc
            except (smtplib.SMTPException, OSError) as exc:
                self._close()
                raise TransientError(
                    f"{type(exc).__name__}: {exc}", reason=type(exc).__name__
                ) from exc
            if not sent:
                raise TransientError("the email backend reported nothing sent")
            return notification.message_id
        raise TransientError("unreachable")  # pragma: no cover


def webhook_body(notification: Notification) -> bytes:
    ctx = notification.context
    document = {
        "id": notification.message_id.strip("<>"),
        "event": notification.template or ctx.get("event", ""),
        "scope": ctx.get("scope", ""),
        "key": ctx.get("key", notification.dedupe_key),
        "created_at": notification.created_at,
        "data": ctx.get("data", {}),
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def webhook_signature(secret: str, body: bytes, timestamp: int, *also: str) -> str:
    """``t=<unix seconds>,sha256=<hex>``: HMAC-SHA256 of ``"<t>." + body`` with the endpoint's
    secret. Signing the time lets a receiver refuse a replayed request (compare ``t`` with
    its clock, e.g. within five minutes) as well as a forged one. Each secret of ``also``
    (the one before a rotation, during its overlap) adds its own ``,sha256=<hex>``: a
    receiver accepts the request when any of them matches the secret it holds."""
    signed = str(timestamp).encode() + b"." + body
    digests = [
        hmac.new(key.encode(), signed, hashlib.sha256).hexdigest() for key in (secret, *also)
    ]
    return f"t={timestamp}," + ",".join(f"sha256={digest}" for digest in digests)


# A webhook waiting for an earlier event of its order looks again after this long.
WEBHOOK_ORDER_WAIT_SECONDS = 5.0


def webhook_order_check(notification: Notification) -> None:
    """Events of one order (one case, for one endpoint) are posted in the order they were
    queued: while an earlier one is pending or being sent, this one waits (``Deferred``)
    until the earlier ones' next attempt or lease is over (at least a few seconds), so a
    receiver that is down for an hour costs one look per event, not one every few seconds.
    An earlier one that failed for good no longer holds the others back."""
    order = notification.context.get("order")
    if not order:
        return
    earlier = Notification.objects.filter(
        pk__in=NotificationTag.objects.filter(
            tag=order, notification_id__lt=notification.pk
        ).values("notification_id"),
        status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING],
    ).aggregate(n=Count("id"), due=Max("send_after"), lease=Max("lease_expires_at"))
    if not earlier["n"]:
        return
    now = timezone.now()
    until = max(m for m in (earlier["due"], earlier["lease"], now) if m is not None)
    raise Deferred(
        "waiting for an earlier event of the same order",
        seconds=max(WEBHOOK_ORDER_WAIT_SECONDS, (until - now).total_seconds() + 1),
    )


class WebhookAddressRefused(ValueError):
    """The webhook URL leads to an address caseowner must never post to."""


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (a seam for tests, which have no DNS)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS]


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes whose addresses carry an IPv4 address a translator delivers to.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052, the well-known prefix
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291, deprecated
# RFC 8215's NAT64 prefix for local use: not globally reachable (IANA), though Python 3.11
# calls it global. Where the IPv4 address sits in it depends on the operator's prefix length,
# so it is refused as a whole unless WEBHOOK_ALLOWED_NETWORKS lists it.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def _is_public(address: IPAddress) -> bool:
    return address.is_global and not (
        isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL
    )


def _destinations(address: IPAddress) -> list[IPAddress]:
    """Where a connection to ``address`` leads: the address itself and the IPv4 address it
    carries, if any — IPv4-mapped (a plain IPv4 connection), NAT64, 6to4 (2002::/16),
    Teredo (its server and client) or the old IPv4-compatible form."""
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    found: list[IPAddress] = [address]
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(address.packed[12:16]))
    return found


def webhook_url_check(url: str, *, resolve: bool) -> list[str]:
    """Refuse URLs that would make the worker reach inside the network it runs in: only
    http(s), and every address the host has must be public (loopback, private, link-local
    and reserved ranges are refused) unless ``WEBHOOK_ALLOWED_NETWORKS`` lists it; an IPv6
    address that carries an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) must carry a
    public one, or one the setting lists, as well. Without
    ``resolve`` only a literal address is checked (registration need not have DNS); a
    delivery always resolves, so a name that later points inside is refused too.

    Returns the checked addresses (none when a name was not resolved): a delivery connects
    to one of these, never to what a second lookup might answer."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookAddressRefused("a webhook URL must be http(s)://host/…")
    host = parts.hostname
    try:
        literal = [str(ipaddress.ip_address(host))]
    except ValueError:
        # RFC 6761: "localhost" names are loopback whatever a resolver says.
        literal = ["127.0.0.1"] if host == "localhost" or host.endswith(".localhost") else []
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookAddressRefused("the webhook URL has an invalid port") from None
    if literal:
        addresses = literal
    elif resolve:
        try:
            addresses = resolve_host(host, port)
        except OSError as exc:
            raise TransientError(f"cannot resolve {host}: {exc}", reason="dns") from exc
        if not addresses:
            raise TransientError(f"cannot resolve {host}: no address", reason="dns")
    else:
        return []
    allowed = _allowed_networks()
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        for destination in _destinations(address):
            if _is_public(destination) or any(destination in network for network in allowed):
                continue
            inside = "" if destination == address else f", which leads to {destination}"
            raise WebhookAddressRefused(f"{host} leads to a non-public address ({address}{inside})")
    return addresses


def _ca_bundle() -> str:
    """The certificates a webhook's server is verified against: the bundle named by
    ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` (as HTTP clients read them), else certifi's."""
    named = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return named or certifi.where()


def webhook_post(
    url: str, *, address: str, body: bytes, headers: dict[str, str], timeout: float
) -> int:
    """POST ``body`` to ``url`` over a connection to ``address``, the one address the check
    approved, and answer the status code. The URL's host is looked up no second time, so a
    name whose DNS answer changes between the check and the connection (DNS rebinding)
    cannot send the request inside. The request still names the URL's host: ``Host`` for
    the server, and for https the TLS server name (SNI) and the certificate is verified
    for that name, not for the address. No redirects, no retries (the outbox retries)."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=_ca_bundle(),
            server_hostname=host,
            assert_hostname=host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)
    with pool:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": parts.netloc.rpartition("@")[2]},
            redirect=False,
            retries=False,
            assert_same_host=False,
        )
        return int(response.status)


class WebhookTransport:
    """A JSON POST signed with HMAC-SHA256; 2xx delivers, 4xx (but 408/429) is permanent."""

    def send(self, notification: Notification) -> str:
        endpoint = notification.webhook_endpoint
        if endpoint is None or not endpoint.is_active:
            raise PermanentError("webhook endpoint removed or disabled", reason="endpoint_gone")
        try:
            addresses = webhook_url_check(endpoint.url, resolve=True)
        except WebhookAddressRefused as exc:
            raise PermanentError(str(exc), reason="address_refused") from exc
        webhook_order_check(notification)
        body = webhook_body(notification)
        timestamp = int(time.time())
        overlap = endpoint.previous_secret_until
        previous = (
            [endpoint.previous_secret]
            if endpoint.previous_secret and overlap and overlap > timezone.now()
            else []
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "caseowner-webhooks/1",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: webhook_signature(endpoint.secret, body, timestamp, *previous),
            "X-Caseowner-Event": notification.template or notification.context.get("event", ""),
            # The same on every retry: receivers drop a delivery they have seen.
            "X-Caseowner-Delivery": notification.message_id.strip("<>"),
        }
        try:
            status = webhook_post(
                endpoint.url,
                address=addresses[0],
                body=body,
                headers=headers,
                timeout=settings.WEBHOOK_TIMEOUT,
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}", reason=type(exc).__name__) from exc
        if 200 <= status < 300:
            return notification.message_id
        # Only the status: the receiver's answer is not ours to store or show.
        error = f"HTTP {status}"
        if 400 <= status < 500 and status not in (408, 425, 429):
            raise PermanentError(error, reason=str(status))
        raise TransientError(error, reason=str(status))


TRANSPORTS: dict[str, Any] = {
    NotificationChannel.EMAIL: EmailTransport(),
    NotificationChannel.WEBHOOK: WebhookTransport(),
}


def transport_for(channel: str) -> Any:
    try:
        return TRANSPORTS[channel]
    except KeyError:
        raise PermanentError(
            f"no transport for channel {channel!r}", reason="no_transport"
        ) from None
