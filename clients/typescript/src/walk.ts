// The main flow, as a frontend walks it, through the generated types and openapi-fetch: an artist's
// profile, a track with its audio uploaded through the presigned POST, a visual uploaded the same way,
// READY, activated, exported to a hook video (polled to DONE, the MP4 downloaded) and shared; then the
// artist connects Stripe and sets a price, and a fan collects them (the PaymentIntent confirmed at the
// Stripe API the stack talks to) until the signed webhook gives the fan the full track.
//
//   CASSET_API_URL=http://127.0.0.1:3000 CASSET_TOKEN=$(make token SUB=me) \
//   CASSET_FAN_TOKEN=$(make token SUB=fan) CASSET_STRIPE_URL=http://127.0.0.1:12111 \
//   CASSET_STRIPE_KEY=sk_test_... CASSET_AUDIO=song.mp3 CASSET_VIDEO=loop.mp4 npm run walk
//
// Each step prints one line; any answer the flow does not expect ends the walk with a non-zero exit.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function client(token: string) {
  return createClient<paths>({ baseUrl: setting("CASSET_API_URL"), headers: { Authorization: `Bearer ${token}` } });
}

const api = client(setting("CASSET_TOKEN"));
const fan = client(setting("CASSET_FAN_TOKEN"));

async function stripe(path: string, form: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${setting("CASSET_STRIPE_URL")}${path}`, {
    method: "POST",
    headers: { Authorization: `Basic ${Buffer.from(`${setting("CASSET_STRIPE_KEY")}:`).toString("base64")}` },
    body: new URLSearchParams(form),
  });
  if (!response.ok) throw new Error(`Stripe ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

function answered<T>(step: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`${step}: ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  console.log(`${step}: ${result.response.status}`);
  return result.data;
}

async function upload(step: string, target: Schemas["UploadOut"] | null, path: string): Promise<void> {
  if (!target) throw new Error(`${step}: no presigned POST in the answer`);
  const form = new FormData();
  for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
  form.append("file", new Blob([await readFile(path)]), basename(path));
  const response = await fetch(target.url, { method: target.method, body: form });
  if (!response.ok) throw new Error(`${step}: ${response.status} ${await response.text()}`);
  console.log(`${step}: ${response.status}`);
}

async function poll<T>(step: string, read: () => Promise<T>, settled: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const value = await read();
    if (settled(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${step}: not settled after 120 s`);
}

async function main(): Promise<void> {
  const handle = `walk_${Date.now().toString(36)}`;
  answered(
    "createProfile",
    await api.POST("/api/users", { body: { handle, displayName: "Walk", isArtist: true } }),
  );

  const created = answered(
    "createTrack",
    await api.POST("/api/tracks", {
      body: { title: "Night Drive", previewStartSec: 1, hookDurationSec: 5, audioContentType: "audio/mpeg" },
    }),
  );
  const trackId = created.track.id;
  await upload("upload audio", created.audioUpload, setting("CASSET_AUDIO"));
  const track = await poll(
    "getTrack",
    async () => answered("getTrack", await api.GET("/api/tracks/{trackId}", { params: { path: { trackId } } })),
    (found) => found.audio?.status !== "PROCESSING",
  );
  if (track.audio?.status !== "READY") throw new Error(`audio ${JSON.stringify(track.audio)}`);

  const added = answered(
    "createVisual",
    await api.POST("/api/tracks/{trackId}/visuals", {
      params: { path: { trackId } },
      body: { contentType: "video/mp4" },
    }),
  );
  const visualId = added.visual.id;
  await upload("upload visual", added.upload, setting("CASSET_VIDEO"));
  const visual = await poll(
    "getStudioVisual",
    async () =>
      answered(
        "getStudioVisual",
        await api.GET("/api/studio/visuals/{visualId}", { params: { path: { visualId } } }),
      ),
    (found) => found.status !== "PROCESSING",
  );
  if (visual.status !== "READY") throw new Error(`visual ${visual.status}: ${visual.failureReason}`);

  answered(
    "activateVisual",
    await api.PATCH("/api/tracks/{trackId}/visuals/{visualId}/active", {
      params: { path: { trackId, visualId } },
      body: { active: true },
    }),
  );

  const requested = answered(
    "requestExport",
    await api.POST("/api/hooks/tiktok-video", { body: { trackId, visualAssetId: visualId } }),
  );
  const exportId = requested.id;
  const job = await poll(
    "getExport",
    async () =>
      answered("getExport", await api.GET("/api/exports/{exportId}", { params: { path: { exportId } } })),
    (found) => found.status === "DONE" || found.status === "FAILED",
  );
  if (job.status !== "DONE" || !job.downloadUrl) throw new Error(`export ${JSON.stringify(job)}`);
  const video = new Uint8Array(await (await fetch(job.downloadUrl)).arrayBuffer());
  const brand = new TextDecoder().decode(video.slice(4, 8));
  if (brand !== "ftyp") throw new Error(`the download is not an MP4 (${brand})`);
  console.log(`download: ${video.length} bytes, ${brand}`);

  const share = answered(
    "createShare",
    await api.POST("/api/shares", { body: { trackId, visualAssetId: visualId } }),
  );
  const resolved = answered(
    "getShare",
    await api.GET("/api/shares/{shareId}", { params: { path: { shareId: share.id } } }),
  );
  if (resolved.visualAssetId !== visualId) throw new Error(`share shows ${resolved.visualAssetId}`);

  const onboarding = answered("connectStripe", await api.POST("/api/studio/stripe/connect"));
  // The onboarding link is the page Stripe shows the artist; opening it finishes onboarding at the fake.
  await fetch(onboarding.onboardingUrl, { redirect: "manual" });
  await poll(
    "getMyProfile",
    async () => answered("getMyProfile", await api.GET("/api/users/me")),
    (me) => me.stripeOnboardingComplete === true,
  );
  answered(
    "setCollectPrice",
    await api.PUT("/api/studio/collect-price", { body: { amount: 700, currency: "USD" } }),
  );
  answered(
    "createProfile (fan)",
    await fan.POST("/api/users", { body: { handle: `${handle}_fan`, displayName: "Fan" } }),
  );
  const checkout = answered(
    "createPaymentIntent",
    await fan.POST("/api/checkout/payment-intent", { body: { artistSlug: handle } }),
  );
  await stripe(`/v1/payment_intents/${checkout.paymentIntentId}`, { payment_method: "pm_card_visa" });
  const confirmed = await stripe(`/v1/payment_intents/${checkout.paymentIntentId}/confirm`);
  console.log(`Stripe confirm: ${String(confirmed.status)}`);
  const audio = await poll(
    "getTrackAudio",
    async () =>
      answered("getTrackAudio", await fan.GET("/api/tracks/{trackId}/audio", { params: { path: { trackId } } })),
    (access) => access.access === "FULL",
  );
  console.log(`collected: the fan hears the full track (${audio.access})`);
  console.log(`walked: track ${trackId}, visual ${visualId}, export ${exportId}, share ${share.url}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
