"""OAuth 2.0 / OpenID Connect client pieces for `faas-pro auth`.

- ``idp_client``: one identity provider for one login; every call that yields tokens verifies them;
- ``discovery``: the issuer's discovery document (issuer checked byte-for-byte) and its JWKS;
- ``pkce``: CSPRNG state/nonce/verifier and the S256 challenge (Authlib's helper);
- ``loopback``: the RFC 8252 loopback redirect receiver;
- ``browser``: which browser to open, and when not to;
- ``flows``: authorize URLs, the code-for-token request, ID/access token checks;
- ``exchange``: the RFC 8693 client for the gateway's ``/oauth/token``;
- ``fetch``: bounded, redirect-free JSON over the process's one httpx client.

Authlib is used only for protocol helpers (no Authlib HTTP client: its httpx integration is
deprecated); every request goes through ``Deps.http()``, built by faas_pro/http_client.py.
"""
