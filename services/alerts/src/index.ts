// The alerts service (run by `main.ts`); its parts are reached by module path in its tests.
export { AlertsService, type AlertsServiceDeps } from './alerts-service.js';
