// Builds the web console into console/dist (served by the daemon at / and /assets/*).
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [preact()],
  // No public/ folder: the daemon serves only index.html and assets/*.
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inline nothing: the page's CSP allows scripts and styles from this origin only.
    assetsInlineLimit: 0,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    // `npm run console:dev` proxies the API to a daemon on the default port.
    proxy: { '/v1': 'http://127.0.0.1:4000', '/healthz': 'http://127.0.0.1:4000' },
    fs: { allow: ['..'] },
  },
});
