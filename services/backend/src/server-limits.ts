import { PREDICTION_LIMITS } from '../../../contracts/prediction.ts';
import { httpServerLimits } from '../../../runtime/http-server.ts';
import { LIVE_STREAM_LIMITS } from './live-stream.ts';

/**
 * The backend's server limits: its largest body is a prediction request; its headers are what the
 * frontend forwards from a browser behind the ALB (session cookies and OIDC tokens: up to the ALB's
 * 64 KiB); its connections are the live streams plus the frontend's pooled requests.
 */
export const BACKEND_SERVER_LIMITS = httpServerLimits({
  maxBodyBytes: PREDICTION_LIMITS.maxBodyBytes,
  maxHeaderBytes: 64 * 1024,
  maxConnections: LIVE_STREAM_LIMITS.maxStreams + 256,
});
