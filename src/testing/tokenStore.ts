/**
 * What the server remembers: authorization codes, device authorizations,
 * grants (a "family" of tokens that descend from one authorization) and
 * tokens. Plain maps; everything is decided against the server clock.
 */
import { randomValue } from './base64url.js';
import type { StoredPkceMethod } from './pkceVerification.js';
import type { IssuedToken, TestUser } from './types.js';

/** One authorization and everything issued from it (RFC 6749 §4.1.2, RFC 7009 §2.1 "the same authorization grant"). */
export interface Grant {
  id: string;
  clientId: string;
  user?: TestUser;
  scopes: string[];
  nonce?: string;
  authTime?: number;
  /** Scopes of the user token (Slack's `user_scope`), when the server answers in Slack's shape. */
  userScopes?: string[];
  /** Google's offline access: this authorization may have a refresh token. */
  offline?: boolean;
  /** Set by code replay or refresh-token reuse: tokens issued from it afterwards are born revoked. */
  revoked: boolean;
  tokens: Set<string>;
}

export interface TokenRecord {
  token: string;
  kind: 'access_token' | 'refresh_token';
  grantId: string;
  grantType: string;
  clientId: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number | null;
  revoked: boolean;
  rotated: boolean;
  /** Whose token it is in Slack's shape: the bot's (top level) or the user's (`authed_user`). */
  holder?: 'bot' | 'user';
}

export interface AuthorizationCodeRecord {
  code: string;
  clientId: string;
  /** The redirect_uri parameter as sent, when it was sent (RFC 6749 §4.1.3 binds the token request to it). */
  redirectUri?: string;
  scopes: string[];
  challenge?: string;
  method?: StoredPkceMethod;
  nonce?: string;
  user: TestUser;
  issuedAt: number;
  expiresAt: number;
  used: boolean;
  grantId?: string;
  /** Slack's `user_scope`, checked like `scope`. */
  userScopes?: string[];
  /** Google's offline access, decided when the user consented (see `TestServerQuirks.offlineAccessType`). */
  offline?: boolean;
  /** Auth0's `audience` of the authorization request. */
  audience?: string;
}

export interface DeviceRecord {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  /** Seconds; raised by 5 on every `slow_down` (RFC 8628 §3.5). */
  interval: number;
  status: 'pending' | 'approved' | 'denied' | 'used';
  lastPollAt?: number;
  user?: TestUser;
}

/** RFC 8628 §6.1: user codes from a base-20 alphabet without vowels, easy to type. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

export function createUserCode(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  const letters = Array.from(bytes, (b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]).join('');
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

/** Case and dashes do not matter when a user types a code (RFC 8628 §6.1). */
export function normalizeUserCode(userCode: string): string {
  return userCode.toUpperCase().replace(/[^A-Z]/g, '');
}

export class TokenStore {
  readonly grants = new Map<string, Grant>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly codes = new Map<string, AuthorizationCodeRecord>();
  readonly devices = new Map<string, DeviceRecord>();
  /** `clientId sub` pairs whose user has consented once (Google's offline access). */
  readonly consents = new Set<string>();

  constructor(private readonly now: () => number) {}

  createGrant(fields: Omit<Grant, 'id' | 'tokens' | 'revoked'>): Grant {
    const grant: Grant = { ...fields, id: randomValue('grant_', 12), revoked: false, tokens: new Set() };
    this.grants.set(grant.id, grant);
    return grant;
  }

  issue(grant: Grant, kind: TokenRecord['kind'], grantType: string, ttlSeconds: number | null, scopes = grant.scopes): TokenRecord {
    const issuedAt = this.now();
    const record: TokenRecord = {
      token: randomValue(kind === 'access_token' ? 'at_' : 'rt_'),
      kind,
      grantId: grant.id,
      grantType,
      clientId: grant.clientId,
      scopes,
      issuedAt,
      expiresAt: ttlSeconds === null ? null : issuedAt + ttlSeconds * 1000,
      revoked: grant.revoked,
      rotated: false,
    };
    this.tokens.set(record.token, record);
    grant.tokens.add(record.token);
    return record;
  }

  isActive(record: TokenRecord): boolean {
    return !record.revoked && !record.rotated && (record.expiresAt === null || this.now() < record.expiresAt);
  }

  /** Revokes every token issued from one authorization (code replay, refresh reuse, refresh revocation). */
  revokeGrant(grantId: string): void {
    const grant = this.grants.get(grantId);
    if (!grant) return;
    grant.revoked = true;
    for (const token of grant.tokens) {
      const record = this.tokens.get(token);
      if (record) record.revoked = true;
    }
  }

  /** RFC 7009 §2.1: revoking a refresh token revokes its grant's access tokens too; an access token alone. */
  revoke(record: TokenRecord): void {
    if (record.kind === 'refresh_token') this.revokeGrant(record.grantId);
    else record.revoked = true;
  }

  describe(record: TokenRecord): IssuedToken {
    const sub = this.grants.get(record.grantId)?.user?.sub;
    return {
      token: record.token,
      kind: record.kind,
      clientId: record.clientId,
      ...(sub === undefined ? {} : { sub }),
      scopes: [...record.scopes],
      grantType: record.grantType,
      issuedAt: record.issuedAt,
      expiresAt: record.expiresAt,
      revoked: record.revoked,
      rotated: record.rotated,
      active: this.isActive(record),
    };
  }
}
