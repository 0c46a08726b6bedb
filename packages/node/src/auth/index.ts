export { createAuthenticator, MAX_TOKEN_BYTES, type Authenticator, type AuthenticatorOptions } from './authenticator.js';
export { signDevToken, type DevTokenOptions } from './dev-token.js';
export {
  AUTH_FAILED_MESSAGE,
  AUTH_REQUIRED_MESSAGE,
  NO_SUB_MESSAGE,
  authFailure,
  type AuthFailureReason,
  type AuthResult,
  type Identity,
} from './identity.js';
