// A real, independently written OpenID Connect provider for the browser
// tests: node-oidc-provider (the OpenID Foundation-certified package from
// npm), with its development sign-in pages, one public client ("wherry",
// authorisation code with PKCE) and users whose `roles` claim names a
// Wherry role: "<role>.user" signs in with the role <role> (any password).
// Its signing key (ES256) is made here; the public half is written as a
// JWKS file for `wherry serve`.
// Usage: node oidc-provider.mjs PORT REDIRECT_URI JWKS_OUT
import http from "node:http";
import { writeFileSync } from "node:fs";
import Provider from "oidc-provider";
import { exportJWK, generateKeyPair } from "jose";

const [port, redirect, jwksOut] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const roles = ["advisor", "caseworker", "fire_prevention", "steward", "analyst", "tec_team", "admin"];

const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
const kid = "wherry-e2e-1";
const signing = { ...(await exportJWK(privateKey)), kid, alg: "ES256", use: "sig" };
writeFileSync(jwksOut, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] }));

const provider = new Provider(issuer, {
  clients: [{
    client_id: "wherry",
    application_type: "web",
    token_endpoint_auth_method: "none",
    redirect_uris: [redirect],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    id_token_signed_response_alg: "ES256",
  }],
  jwks: { keys: [signing] },
  scopes: ["openid", "profile", "roles"],
  claims: { openid: ["sub"], profile: ["preferred_username"], roles: ["roles"] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ["wherry-e2e-cookie-key"] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => {
      const role = id.endsWith(".user") ? id.slice(0, -".user".length) : "";
      return { sub: id, preferred_username: id, roles: roles.includes(role) ? ["staff", role] : ["staff"] };
    },
  }),
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;
http.createServer(provider.callback()).listen(Number(port), "127.0.0.1", () => {
  console.log(`OIDC provider on ${issuer}`);
});
