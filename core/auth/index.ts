/**
 * Who may do what: users and tenants (KV records, passwords as scrypt hashes), grants and their
 * patterns, the NATS permissions of a user, the authorization of every request, and the auth
 * callout service that lets users connect.
 */
export { NO_GRANTS, globMatch, isExact, splitConsume, patternProblem, resolveGrants, canProduce, canConsume, canSee } from "./grants.js";
export { hashPassword, verifyPassword, randomPassword, isPasswordHash, SCRYPT_COST } from "./passwords.js";
export { USERS_BUCKET, TENANTS_BUCKET, WatchedRecords, parseUserRecord, parseTenantRecord, userView } from "./records.js";
export { userPermissions, needsNewPermissions } from "./permissions.js";
export { API_RULES, OPEN_IDENTITY, authorize, authorizeProduce } from "./authorize.js";
export { AuthService, unidentified } from "./service.js";
export type { PasswordHash } from "./passwords.js";
export type { UserRecord, TenantRecord, UserView } from "./records.js";
export type { StationGroups, UserPermissions } from "./permissions.js";
export type { AuthServiceOptions, AuthStats, LoginFront } from "./service.js";
