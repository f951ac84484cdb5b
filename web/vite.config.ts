import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The studio is served by the gateway at /studio/, on the API's origin (no CORS).
// `npm run dev` proxies the API and previews to a running gateway (`make dev`).
const gateway = process.env.OASIS_GATEWAY_URL ?? "http://localhost:8080";

export default defineConfig({
  base: "/studio/",
  plugins: [preact()],
  build: { target: "es2022", sourcemap: false },
  server: {
    port: 5173,
    proxy: {
      "/api/": { target: gateway, changeOrigin: false },
      "/preview/": { target: gateway, changeOrigin: false },
    },
  },
});
