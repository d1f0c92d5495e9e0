import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The portal is served at `/` (the embedded mode serves web/dist there). During `npm run dev`,
// API calls under /portal-api go to a running `dxc dev` (DXC_DEV_URL, default port 8080).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: true },
  server: {
    proxy: {
      "/portal-api": process.env.DXC_DEV_URL ?? "http://127.0.0.1:8080",
      "/sandbox": process.env.DXC_DEV_URL ?? "http://127.0.0.1:8080",
    },
  },
});
