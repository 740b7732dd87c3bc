import { SpanStatusCode, type Attributes, type Span, type TextMapGetter } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  HTTP_REQUEST_METHOD_VALUE_OTHER,
} from '@opentelemetry/semantic-conventions';
import type { Context } from 'hono';
import type { NodeBindings } from './types.ts';

/** The methods of RFC 9110 and PATCH; anything else is "_OTHER" (semconv: bounded cardinality). */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

export const methodOf = (method: string): string => (KNOWN_METHODS.has(method) ? method : HTTP_REQUEST_METHOD_VALUE_OTHER);

/** "{method} {route}", or "{method}" alone without a route (semconv: never the raw path). */
export const spanNameOf = (method: string, route: string | undefined): string => (route === undefined ? method : `${method} ${route}`);

export function nodeBindings(c: Context): NodeBindings | undefined {
  const env = c.env as Partial<NodeBindings> | undefined;
  return env?.incoming?.headers ? (env as NodeBindings) : undefined;
}

/** Node's header object (lower-case keys) needs no Headers instance to read. */
export const nodeHeaderGetter: TextMapGetter<NodeBindings['incoming']['headers']> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

export const webHeaderGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

const headerOf = (c: Context, node: NodeBindings | undefined, name: string): string | undefined => {
  if (!node) return c.req.header(name);
  const value = node.incoming.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** host[:port] of a Host header, IPv6 literals included ("[::1]:8080"). */
export function parseHost(host: string, scheme: string): { address: string; port: number | undefined } {
  const ipv6 = host.startsWith('[');
  const close = ipv6 ? host.indexOf(']') : -1;
  const colon = ipv6 ? host.indexOf(':', close) : host.lastIndexOf(':');
  const address = ipv6 ? host.slice(1, close) : colon === -1 ? host : host.slice(0, colon);
  const portText = colon === -1 ? '' : host.slice(colon + 1);
  const port = portText === '' ? (scheme === 'https' ? 443 : 80) : Number(portText);
  return { address, port: Number.isInteger(port) ? port : undefined };
}

/**
 * The request attributes of a recording SERVER span (stable HTTP semconv). Only called once the
 * sampler said the span records. No query string: it may carry tokens.
 */
export function requestAttributes(c: Context, method: string, route: string | undefined): Attributes {
  const node = nodeBindings(c);
  // Without Node's request, the web Request's URL (a fetch Request cannot carry a Host header).
  const url = node ? undefined : new URL(c.req.url);
  const scheme = url ? url.protocol.slice(0, -1) : node?.incoming.socket?.encrypted ? 'https' : 'http';
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: methodOf(method),
    [ATTR_URL_SCHEME]: scheme,
    [ATTR_URL_PATH]: c.req.path,
  };
  if (attributes[ATTR_HTTP_REQUEST_METHOD] !== method) attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = method;
  if (route !== undefined) attributes[ATTR_HTTP_ROUTE] = route;
  const host = url ? url.host : headerOf(c, node, 'host');
  if (host) {
    const { address, port } = parseHost(host, scheme);
    attributes[ATTR_SERVER_ADDRESS] = address;
    if (port !== undefined) attributes[ATTR_SERVER_PORT] = port;
  }
  // The first X-Forwarded-For hop is the original client behind a proxy (semconv client.address).
  const forwarded = headerOf(c, node, 'x-forwarded-for')?.split(',', 1)[0]?.trim();
  const client = forwarded || node?.incoming.socket?.remoteAddress;
  if (client) attributes[ATTR_CLIENT_ADDRESS] = client;
  const userAgent = headerOf(c, node, 'user-agent');
  if (userAgent) attributes[ATTR_USER_AGENT_ORIGINAL] = userAgent;
  if (node?.incoming.httpVersion) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = node.incoming.httpVersion;
  return attributes;
}

/** The client went away before the answer: the socket is closed. */
export const clientAborted = (c: Context): boolean => nodeBindings(c)?.incoming.socket?.destroyed === true;

/** error.type of a finished request: the recorded exception's type, "aborted", or the 5xx code. */
export function errorTypeOfResponse(status: number, exceptionType: string | undefined, aborted: boolean): string | undefined {
  if (exceptionType !== undefined) return exceptionType;
  if (aborted) return 'aborted';
  return status >= 500 ? String(status) : undefined;
}

/**
 * Response attributes and status of a recording SERVER span. 4xx are the client's, not span
 * errors (semconv for SERVER spans); 5xx and aborted requests are.
 */
export function finishSpan(span: Span, status: number, errorType: string | undefined): void {
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (errorType === undefined) return;
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}

/** The attributes the stable semconv gives http.server.request.duration. */
export function durationAttributes(
  method: string,
  scheme: string,
  route: string | undefined,
  status: number,
  errorType: string | undefined,
  protocolVersion: string | undefined,
): Attributes {
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: methodOf(method),
    [ATTR_URL_SCHEME]: scheme,
    [ATTR_HTTP_RESPONSE_STATUS_CODE]: status,
  };
  if (route !== undefined) attributes[ATTR_HTTP_ROUTE] = route;
  if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
  if (protocolVersion !== undefined) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = protocolVersion;
  return attributes;
}
