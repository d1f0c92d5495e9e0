import { useCallback, useEffect, useState } from "react";

import { ApiError, api } from "./api";

/** Loads one API resource; `reload` fetches it again, `setData` replaces it with a fresher copy
 * (say, the Connection an update answered with). */
export function useLoad<T>(path: string | null) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (path === null) return;
    let cancelled = false;
    api
      .get<T>(path)
      .then((value) => {
        if (!cancelled) {
          setData(value);
          setError(null);
        }
      })
      .catch((caught: unknown) => {
        if (!cancelled) {
          setError(caught instanceof ApiError ? caught : new ApiError(0, String(caught), [], null));
        }
      });
    return () => {
      cancelled = true;
    };
  }, [path, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, reload, setData };
}
