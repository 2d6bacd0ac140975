/** How to reach NATS: shared by the gateway (core/nats) and the SDK (sdk/transport). */
export interface ConnectSettings {
  servers: string | string[];
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  /** Connection name shown by the server. */
  name?: string | undefined;
  /** Give up the first connect after this long. @default 5000 */
  timeoutMs?: number | undefined;
  /**
   * TLS: the CA that signed the server's certificate (PEM file), and a client certificate and
   * key when the server verifies clients. Given any of them, the connection requires TLS.
   */
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } | undefined;
}

/**
 * The NATS client options for {@link ConnectSettings} (a plain object, so this module needs no
 * NATS import): reconnect forever, 250 ms apart, after a first successful connect.
 */
export function natsConnectOptions(o: ConnectSettings, defaultName: string): Record<string, unknown> {
  return {
    servers: o.servers,
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.pass !== undefined ? { pass: o.pass } : {}),
    ...(o.token !== undefined ? { token: o.token } : {}),
    ...(o.tls !== undefined
      ? {
          tls: {
            ...(o.tls.caFile !== undefined ? { caFile: o.tls.caFile } : {}),
            ...(o.tls.certFile !== undefined ? { certFile: o.tls.certFile } : {}),
            ...(o.tls.keyFile !== undefined ? { keyFile: o.tls.keyFile } : {}),
          },
        }
      : {}),
    name: o.name ?? defaultName,
    timeout: o.timeoutMs ?? 5000,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
  };
}
